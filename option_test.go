package vault

import (
	"testing"
	"time"
)

// TestOptionsApplyWhereTheyMean: each option is accepted, at compile time,
// exactly by the operations it means something to. WithMaxAge on Seal and
// WithLockTimeout on Open were accepted and ignored before.
func TestOptionsApplyWhereTheyMean(t *testing.T) {
	tests := []struct {
		name                      string
		opt                       any
		open, seal, write, update bool
	}{
		{"WithMaxAge", WithMaxAge(time.Hour), true, false, false, true},
		{"WithLockTimeout", WithLockTimeout(time.Second), false, true, true, true},
		{"WithNoClobber", WithNoClobber(), false, true, false, false},
		{"WithReplaceAny", WithReplaceAny(), false, true, false, false},
		{"WithClock", WithClock(time.Now), true, true, true, true},
		{"WithAuditor", WithAuditor(nil), true, true, true, true},
		{"WithPipeline", WithPipeline(Pipeline{}), true, true, true, true},
		{"WithKeySource", WithKeySource("MASTER_KEY"), true, true, true, true},
		{"WithAuditFailOpen", WithAuditFailOpen(), true, true, true, true},
		{"Options", Options(WithClock(time.Now)), true, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, open := tt.opt.(OpenOption)
			_, seal := tt.opt.(SealOption)
			_, write := tt.opt.(WriteOption)
			_, update := tt.opt.(UpdateOption)
			if open != tt.open || seal != tt.seal || write != tt.write || update != tt.update {
				t.Errorf("accepted by Open %v, Seal %v, Rotate %v, Update %v; want %v, %v, %v, %v",
					open, seal, write, update, tt.open, tt.seal, tt.write, tt.update)
			}
		})
	}
}

// TestOptionsCombine: Options applies its options in order, later ones
// winning, and skips nil.
func TestOptionsCombine(t *testing.T) {
	first := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	second := first.Add(time.Hour)
	o := newOptions([]Option{Options(WithClock(func() time.Time { return first }), nil, WithKeySource("KEY")), WithClock(func() time.Time { return second })})
	if !o.now().Equal(second) || o.keySource != "KEY" {
		t.Errorf("now %v, key source %q", o.now(), o.keySource)
	}
	o = newOptions([]Option{WithClock(func() time.Time { return second }), Options(WithClock(func() time.Time { return first }))})
	if !o.now().Equal(first) {
		t.Errorf("now %v, want the combined option's, given last", o.now())
	}
}
