package wait

// PublishedPortUser is implemented by strategies that reach the container
// through a port it publishes on the host (ForHTTP, ForSQL; All of them).
// A container that does not publish the port can never be ready, so
// container.Spec.Validate refuses the pair before anything is created.
// ForListeningPort is not one: it checks inside the container too.
type PublishedPortUser interface {
	PublishedPorts() []string
}

// PublishedPorts lists the container ports s reaches through the host:
// what a PublishedPortUser reports, nil for other strategies.
func PublishedPorts(s Strategy) []string {
	if p, ok := s.(PublishedPortUser); ok {
		return p.PublishedPorts()
	}
	return nil
}

// PublishedPorts is the port the request goes to, when one was named.
func (s *HTTPStrategy) PublishedPorts() []string { return nonEmpty(s.port) }

// PublishedPorts is the database's port.
func (s *SQLStrategy) PublishedPorts() []string { return nonEmpty(s.port) }

// PublishedPorts lists the ports of every strategy of All; Any needs none
// of them for sure (another strategy may succeed).
func (m *MultiStrategy) PublishedPorts() []string {
	if !m.all {
		return nil
	}
	var ports []string
	for _, s := range m.strategies {
		ports = append(ports, PublishedPorts(s)...)
	}
	return ports
}

func nonEmpty(p string) []string {
	if p == "" {
		return nil
	}
	return []string{p}
}
