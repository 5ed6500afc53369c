package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-go/berth/internal/wire"
)

// Resource is a container, network, volume or image on the engine.
type Resource struct {
	Kind Kind
	// ID is the engine's ID (a volume's name).
	ID string
	// Name is the container's or network's name, the volume's name, or an
	// image's tags joined by commas (its ID when it has none).
	Name    string
	Labels  map[string]string
	Created time.Time
	// Image is a container's image; State its state (running, exited...).
	Image, State string
	// Tags are an image's repository tags.
	Tags []string
}

// Session is the berth session the resource belongs to, "" for none.
func (r Resource) Session() string { return r.Labels[LabelSession] }

// Expires is the end of the resource's lease (LabelExpires), the zero
// time when it has none.
func (r Resource) Expires() time.Time {
	n, err := strconv.ParseInt(r.Labels[LabelExpires], 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// Expired reports whether the resource's lease ended before now.
func (r Resource) Expired(now time.Time) bool {
	e := r.Expires()
	return !e.IsZero() && e.Before(now)
}

// Test is the test the resource was made for, "" for none.
func (r Resource) Test() string { return r.Labels[LabelTest] }

// String is "KIND NAME", with the test in parentheses when there is one.
func (r Resource) String() string {
	name := r.Name
	if r.Kind == KindContainer || r.Kind == KindImage {
		name = fmt.Sprintf("%.12s %s", strings.TrimPrefix(r.ID, "sha256:"), r.Name)
	}
	if t := r.Test(); t != "" {
		return fmt.Sprintf("%s %s (%s)", r.Kind, name, t)
	}
	return fmt.Sprintf("%s %s", r.Kind, name)
}

// Filter narrows a list the way the Engine API's filters do, e.g.
// {"label": {"berth.session=ID"}}, {"reference": {"busybox"}}, {"name": {"db"}}.
type Filter map[string][]string

// Labelled is a filter for resources carrying every label selector given
// ("key" or "key=value").
func Labelled(selectors ...string) Filter { return Filter{"label": selectors} }

// Containers lists containers, running or not, matching f.
func (c *Client) Containers(ctx context.Context, f Filter) ([]Resource, error) {
	cs, err := c.w.ContainerList(ctx, true, wire.Filters(f))
	return resources(cs, err, func(x wire.ContainerSummary) Resource {
		names := make([]string, len(x.Names))
		for i, n := range x.Names {
			names[i] = strings.TrimPrefix(n, "/")
		}
		return Resource{Kind: KindContainer, ID: x.ID, Name: strings.Join(names, ","), Labels: x.Labels,
			Created: time.Unix(x.Created, 0), Image: x.Image, State: x.State}
	})
}

// resources turns the answer of a list call into Resources with conv.
func resources[T any](xs []T, err error, conv func(T) Resource) ([]Resource, error) {
	if err != nil {
		return nil, err
	}
	out := make([]Resource, 0, len(xs))
	for _, x := range xs {
		out = append(out, conv(x))
	}
	return out, nil
}

// Networks lists networks matching f.
func (c *Client) Networks(ctx context.Context, f Filter) ([]Resource, error) {
	ns, err := c.w.NetworkList(ctx, wire.Filters(f))
	return resources(ns, err, networkResource)
}

func networkResource(x wire.NetworkResource) Resource {
	t, _ := time.Parse(time.RFC3339Nano, x.Created)
	return Resource{Kind: KindNetwork, ID: x.ID, Name: x.Name, Labels: x.Labels, Created: t}
}

// Network inspects one network by ID or name.
func (c *Client) Network(ctx context.Context, idOrName string) (Resource, error) {
	x, err := c.w.NetworkInspect(ctx, idOrName)
	if err != nil {
		return Resource{}, err
	}
	return networkResource(*x), nil
}

// Volumes lists named volumes matching f.
func (c *Client) Volumes(ctx context.Context, f Filter) ([]Resource, error) {
	vs, err := c.w.VolumeList(ctx, wire.Filters(f))
	return resources(vs, err, func(x wire.Volume) Resource {
		t, _ := time.Parse(time.RFC3339Nano, x.CreatedAt)
		return Resource{Kind: KindVolume, ID: x.Name, Name: x.Name, Labels: x.Labels, Created: t}
	})
}

// Images lists images matching f (tagged and untagged; not intermediate
// layers).
func (c *Client) Images(ctx context.Context, f Filter) ([]Resource, error) {
	is, err := c.w.ImageList(ctx, wire.Filters(f))
	return resources(is, err, func(x wire.ImageSummary) Resource {
		return imageResource(x.ID, x.RepoTags, x.Labels, time.Unix(x.Created, 0))
	})
}

func imageResource(id string, tags []string, labels map[string]string, created time.Time) Resource {
	name := strings.Join(tags, ",")
	if name == "" {
		name = id
	}
	return Resource{Kind: KindImage, ID: id, Name: name, Labels: labels, Created: created, Tags: tags}
}

// Image inspects one image by reference or ID.
func (c *Client) Image(ctx context.Context, ref string) (Resource, error) {
	x, err := c.w.ImageInspect(ctx, ref)
	if err != nil {
		return Resource{}, err
	}
	var labels map[string]string
	if x.Config != nil {
		labels = x.Config.Labels
	}
	t, _ := time.Parse(time.RFC3339Nano, x.Created)
	return imageResource(x.ID, x.RepoTags, labels, t), nil
}

// List lists the resources of every kind matching f, in removal order:
// containers, networks, volumes, images.
func (c *Client) List(ctx context.Context, f Filter) ([]Resource, error) {
	var out []Resource
	for _, list := range []func(context.Context, Filter) ([]Resource, error){c.Containers, c.Networks, c.Volumes, c.Images} {
		rs, err := list(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// Remove removes one resource, forcefully: a running container is killed
// and its anonymous volumes go with it; an image is untagged and removed.
// A resource that is already gone is not an error.
func (c *Client) Remove(ctx context.Context, r Resource) error {
	var err error
	switch r.Kind {
	case KindContainer:
		err = c.w.ContainerRemove(ctx, r.ID, wire.RemoveOptions{Force: true, Volumes: true})
		if err != nil && strings.Contains(err.Error(), "already in progress") {
			// Another remover got there first: wait for it to finish.
			_, err = c.w.ContainerWait(ctx, r.ID, "removed")
		}
	case KindNetwork:
		err = c.w.NetworkRemove(ctx, r.ID)
	case KindVolume:
		err = c.w.VolumeRemove(ctx, r.ID, true)
	case KindImage:
		err = c.w.ImageRemove(ctx, r.ID, true, false)
	default:
		return fmt.Errorf("remove %q: unknown kind %q (want container, network, volume or image)", r.ID, r.Kind)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("remove %s %.19s: %w", r.Kind, r.ID, err)
	}
	return nil
}

// RemoveAll removes rs in dependency order: every container (in
// parallel), then networks, volumes and images. It goes on past failures
// and returns them joined.
func (c *Client) RemoveAll(ctx context.Context, rs []Resource) error {
	return RemoveAll(ctx, rs, c.Remove)
}

// RemoveAll removes rs with remove, one kind after another in the order of
// Kinds, the resources of one kind in parallel; it goes on past failures
// and returns them joined. Client.RemoveAll uses Client.Remove; a caller
// with handles of its own (a network to disconnect first) passes its own.
func RemoveAll(ctx context.Context, rs []Resource, remove func(context.Context, Resource) error) error {
	var (
		mu   sync.Mutex
		errs []error
	)
	for _, k := range Kinds {
		var wg sync.WaitGroup
		for _, r := range rs {
			if r.Kind != k {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := remove(ctx, r); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}

// RemoveSession removes every resource labelled with the session and
// returns what it removed.
func (c *Client) RemoveSession(ctx context.Context, session string) ([]Resource, error) {
	if session == "" || strings.ContainsAny(session, "=,\n") {
		// An empty value would widen the filter to every session.
		return nil, fmt.Errorf("remove session %q: give the session ID (the value of the %s label)", session, LabelSession)
	}
	rs, err := c.List(ctx, Labelled(SessionSelector(session)))
	if err != nil {
		return nil, err
	}
	return rs, c.RemoveAll(ctx, rs)
}

// TagImage gives the image (a reference or ID) the name repo:tag.
func (c *Client) TagImage(ctx context.Context, image, repo, tag string) error {
	return c.w.ImageTag(ctx, image, repo, tag)
}

// RemoveExpired removes every resource whose lease (LabelExpires) ended
// before now: its session has ended however it ended, even where no
// watchdog could run (a CI machine that died using a remote engine). It
// returns what it removed.
func (c *Client) RemoveExpired(ctx context.Context, now time.Time) ([]Resource, error) {
	rs, err := c.List(ctx, Labelled(LabelExpires))
	if err != nil {
		return nil, err
	}
	var gone []Resource
	for _, r := range rs {
		if r.Expired(now) {
			gone = append(gone, r)
		}
	}
	return gone, c.RemoveAll(ctx, gone)
}
