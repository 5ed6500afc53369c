package compose

import (
	"github.com/berth-go/berth"
	"github.com/berth-go/berth/wait"
)

// Option changes how Up runs a file.
type Option func(*config)

type config struct {
	profiles   []string
	only       []string
	vars       map[string]string
	fixedPorts bool
	overrides  map[string]*override
}

// override is what a test changes in one service.
type override struct {
	image     string
	env       map[string]string
	wait      []wait.Strategy
	customize []func(*berth.ContainerBuilder)
}

func (c *config) service(name string) *override {
	if c.overrides == nil {
		c.overrides = map[string]*override{}
	}
	o := c.overrides[name]
	if o == nil {
		o = &override{}
		c.overrides[name] = o
	}
	return o
}

// Profiles activates Compose profiles: services listing one of them in
// `profiles:` start too. Services without profiles always start.
func Profiles(names ...string) Option {
	return func(c *config) { c.profiles = append(c.profiles, names...) }
}

// Only starts the named services and what they depend on, as
// `docker compose up NAME...` does.
func Only(services ...string) Option {
	return func(c *config) { c.only = append(c.only, services...) }
}

// Var sets a variable for interpolation (${NAME} in the file). Variables
// come from, in rising precedence: a .env file beside the Compose file,
// the process environment, Var.
func Var(name, value string) Option {
	return func(c *config) {
		if c.vars == nil {
			c.vars = map[string]string{}
		}
		c.vars[name] = value
	}
}

// FixedPorts publishes ports on the host ports the file gives
// ("15432:5432"). Without it every published port gets a random free host
// port, so stacks of parallel tests never collide; read it with
// Service(name).Endpoint or MappedPort.
func FixedPorts() Option { return func(c *config) { c.fixedPorts = true } }

// Env sets an environment variable of service, over the file's
// environment and env_file.
func Env(service, key, value string) Option {
	return func(c *config) {
		o := c.service(service)
		if o.env == nil {
			o.env = map[string]string{}
		}
		o.env[key] = value
	}
}

// Image runs service from image instead of the file's image or build.
func Image(service, image string) Option {
	return func(c *config) { c.service(service).image = image }
}

// WaitFor adds a readiness wait to service, run after it started and
// after its healthcheck (if any) passed. Up returns when every such wait
// is over, and a service that depends on this one with condition
// service_healthy starts only after it.
func WaitFor(service string, s wait.Strategy) Option {
	return func(c *config) { o := c.service(service); o.wait = append(o.wait, s) }
}

// Customize applies f to service's container builder after everything
// the file says, for settings Compose has no key for or a test wants
// changed (Memory, File, Label, ...).
func Customize(service string, f func(*berth.ContainerBuilder)) Option {
	return func(c *config) { o := c.service(service); o.customize = append(o.customize, f) }
}
