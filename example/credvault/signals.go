package main

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// A forwarder catches terminating signals while a child process runs,
// relays them to it, and remembers the last one, so that the command can
// clean up and exit after the child has.
type forwarder struct {
	interrupt bool // relay SIGINT too
	signals   chan os.Signal
	done      chan struct{}

	mu       sync.Mutex
	child    *os.Process
	received os.Signal
}

// forwardSignals starts catching SIGINT, SIGTERM, SIGHUP and SIGQUIT. SIGINT
// is relayed only if interrupt is set: when a terminal's Ctrl-C reaches the
// whole foreground process group, the child has it already.
func forwardSignals(interrupt bool) *forwarder {
	f := &forwarder{interrupt: interrupt, signals: make(chan os.Signal, 4), done: make(chan struct{})}
	signal.Notify(f.signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	go func() {
		for {
			select {
			case <-f.done:
				return
			case sig := <-f.signals:
				if sig == os.Interrupt && !f.interrupt {
					continue
				}
				f.mu.Lock()
				f.received = sig
				if f.child != nil {
					f.child.Signal(sig)
				}
				f.mu.Unlock()
			}
		}
	}()
	return f
}

// setChild makes p the process to relay signals to, or none if nil; a
// signal that came before p started is relayed at once.
func (f *forwarder) setChild(p *os.Process) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.child = p
	if p != nil && f.received != nil {
		p.Signal(f.received)
	}
}

// signal returns the last terminating signal caught, or nil.
func (f *forwarder) signal() os.Signal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.received
}

func (f *forwarder) stop() {
	signal.Stop(f.signals)
	close(f.done)
}

// signalStatus is the exit status of a process that ended because of sig.
func signalStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
