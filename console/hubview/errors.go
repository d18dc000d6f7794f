package hubview

import (
	"errors"
	"net"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// IsForbidden reports whether the hub refused the request for lack of rights.
func IsForbidden(err error) bool { return apierrors.IsForbidden(err) }

// IsNotFound reports whether the hub said the object does not exist.
func IsNotFound(err error) bool { return apierrors.IsNotFound(err) }

// IsUnauthorized reports whether the hub rejected the credential itself.
func IsUnauthorized(err error) bool { return apierrors.IsUnauthorized(err) }

// Message is what to tell the user about err: the API's own message when the hub answered
// (a CEL rule's message, "forbidden: ...", "already exists"), else a sentence saying the hub
// could not be reached.
func Message(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if m := status.Status().Message; m != "" {
			return m
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return "the hub cannot be reached right now (" + netErr.Error() + "); try again in a moment"
	}
	return err.Error()
}
