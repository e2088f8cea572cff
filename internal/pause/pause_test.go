package pause

import (
	"context"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	t.Parallel()
	if !For(context.Background(), 0) || !For(context.Background(), -time.Second) || !For(context.Background(), time.Millisecond) {
		t.Fatal("a wait that should have completed did not")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if For(ctx, time.Hour) || time.Since(start) > 10*time.Second {
		t.Fatal("a cancelled wait went on")
	}
}
