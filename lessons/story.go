package lessons

import (
	"errors"
	"fmt"
)

// Lessons whose story is an error (refused, reset, timeout, addrinuse):
// each runs with exit status 0 when the error it teaches really happened,
// and fails if it did not.

// errStoryDidNotHappen is returned by a lesson whose point did not show:
// the call that should have failed succeeded, or the other way round.
var errStoryDidNotHappen = errors.New("the lesson's story did not happen")

// storyError says that a call did not end as the lesson needs.
func storyError(call, want string, got error) error {
	if got == nil {
		got = errors.New("success")
	}
	return fmt.Errorf("%w: %s should have ended in %s, got %v", errStoryDidNotHappen, call, want, got)
}
