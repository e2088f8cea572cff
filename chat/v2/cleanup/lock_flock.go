//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package cleanup

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on the file at path (made if need be),
// held until release is called or the process ends (a kill releases it),
// failing at once with errLocked when another holds it.
func lockFile(path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
