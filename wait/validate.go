package wait

import (
	"errors"
	"fmt"
)

// Validator is implemented by strategies with settings that must be given
// or must be well formed (ForHTTP's port, ForSQL's driver). Validate
// reports a bad one without touching a container, so a caller can refuse
// the strategy before it creates anything. Use the package's Validate,
// which also checks the members of All and Any.
type Validator interface {
	Validate() error
}

// ErrInvalidStrategy is matched by every *StrategyError.
var ErrInvalidStrategy = errors.New("invalid wait strategy")

// StrategyError reports a strategy that cannot work as configured.
type StrategyError struct {
	// Strategy is the call that made it, e.g. `ForHTTP("/healthz")`.
	Strategy string
	// Problem says what is wrong and what to do.
	Problem string
}

func (e *StrategyError) Error() string { return e.Strategy + ": " + e.Problem }

// Is makes a StrategyError match ErrInvalidStrategy.
func (e *StrategyError) Is(target error) bool { return target == ErrInvalidStrategy }

// Validate checks s when it is a Validator; other strategies, and a nil
// one, pass.
func Validate(s Strategy) error {
	if v, ok := s.(Validator); ok {
		return v.Validate()
	}
	return nil
}

// portProblem says what is wrong with a container port a strategy probes,
// or "" when it is a valid tcp port ("5432/tcp" or "5432").
func portProblem(port string) string {
	if _, _, err := portNumber(port); err != nil {
		return err.Error()
	}
	return ""
}

func invalid(call string, format string, args ...any) *StrategyError {
	return &StrategyError{Strategy: call, Problem: fmt.Sprintf(format, args...)}
}
