package session

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestStoreLifetimes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		advance []time.Duration // between Gets
		cred    Credential
		alive   bool
	}{
		{name: "fresh", advance: []time.Duration{time.Minute}, alive: true},
		{name: "active past the idle timeout", advance: []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, alive: true},
		{name: "idle", advance: []time.Duration{31 * time.Minute}},
		{name: "past the maximum lifetime while active", advance: []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute}},
		{name: "token expired without refresh", advance: []time.Duration{11 * time.Minute}, cred: Credential{Token: "t", Expiry: time.Unix(0, 0).Add(10 * time.Minute)}},
		{name: "token expired with refresh", advance: []time.Duration{11 * time.Minute}, cred: Credential{Token: "t", Expiry: time.Unix(0, 0).Add(10 * time.Minute), Refresh: func() (Credential, error) { return Credential{Token: "u"}, nil }}, alive: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{now: time.Unix(0, 0)}
			var ended atomic.Int32
			st := NewStore(Options{IdleTimeout: 30 * time.Minute, MaxLifetime: 2 * time.Hour, Now: c.Now, OnEnd: func(*Session) { ended.Add(1) }})
			if tc.cred.Token == "" {
				tc.cred.Token = "t"
			}
			s, err := st.Create(Identity{Username: "alice"}, tc.cred)
			require.NoError(t, err)
			var got *Session
			for _, d := range tc.advance {
				c.now = c.now.Add(d)
				got = st.Get(s.ID)
				if got == nil {
					break
				}
			}
			if tc.alive {
				require.Same(t, s, got)
				require.Zero(t, ended.Load())
				return
			}
			require.Nil(t, got)
			require.EqualValues(t, 1, ended.Load(), "OnEnd runs once")
			select {
			case <-s.Done():
			default:
				t.Fatal("Done is not closed")
			}
		})
	}
}

func TestSweepAndDelete(t *testing.T) {
	c := &clock{now: time.Unix(0, 0)}
	var ended []string
	st := NewStore(Options{Now: c.Now, OnEnd: func(s *Session) { ended = append(ended, s.Identity.Username) }})
	a, err := st.Create(Identity{Username: "alice"}, Credential{Token: "a"})
	require.NoError(t, err)
	b, err := st.Create(Identity{Username: "bob"}, Credential{Token: "b"})
	require.NoError(t, err)
	require.NotEqual(t, a.ID, b.ID)
	require.NotEqual(t, a.CSRF, b.CSRF)
	st.Delete(a.ID)
	require.Nil(t, st.Get(a.ID))
	require.Equal(t, []string{"alice"}, ended)
	c.now = c.now.Add(time.Hour)
	st.Sweep()
	require.Equal(t, []string{"alice", "bob"}, ended)
	require.Zero(t, st.Len())
	require.Nil(t, st.Get(""))
	require.Nil(t, st.Get("forged"))
}

func TestCSRFAndLimits(t *testing.T) {
	st := NewStore(Options{MaxSessions: 1})
	s, err := st.Create(Identity{Username: "alice"}, Credential{Token: "a"})
	require.NoError(t, err)
	require.True(t, s.CheckCSRF(s.CSRF))
	require.False(t, s.CheckCSRF(""))
	require.False(t, s.CheckCSRF(s.CSRF+"x"))
	_, err = st.Create(Identity{Username: "bob"}, Credential{Token: "b"})
	require.ErrorIs(t, err, ErrTooManySessions)
}

func TestTokenRefresh(t *testing.T) {
	calls := 0
	s := &Session{cred: Credential{Token: "old", Expiry: time.Now().Add(30 * time.Second), Refresh: func() (Credential, error) {
		calls++
		return Credential{Token: "new", Expiry: time.Now().Add(time.Hour)}, nil
	}}}
	require.Equal(t, "new", s.Token())
	require.Equal(t, "new", s.Token())
	require.Equal(t, 1, calls, "refreshed once, then fresh")
}
