package kcp

import (
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestTypeNotYetVisible: the refusal a sharded hub answered in CI while a new WorkspaceType had
// not reached the admitting shard is retried; other refusals are not.
func TestTypeNotYetVisible(t *testing.T) {
	workspaces := schema.GroupResource{Group: "tenancy.kcp.io", Resource: "workspaces"}
	types := schema.GroupResource{Group: "tenancy.kcp.io", Resource: "workspacetypes"}
	notYet := apierrors.NewForbidden(workspaces, "orgs", apierrors.NewInternalError(apierrors.NewNotFound(types, "root:atrium:atrium-orgs")))
	if want := `workspaces.tenancy.kcp.io "orgs" is forbidden: Internal error occurred: workspacetypes.tenancy.kcp.io "root:atrium:atrium-orgs" not found`; notYet.Error() != want {
		t.Fatalf("the test's error is not kcp's:\n got %s\nwant %s", notYet.Error(), want)
	}
	if !TypeNotYetVisible(notYet) {
		t.Error("the type-not-yet-visible refusal is not retried")
	}
	for _, err := range []error{
		apierrors.NewForbidden(workspaces, "orgs", errors.New(`User "bob" cannot create resource "workspaces"`)),
		apierrors.NewNotFound(workspaces, "orgs"),
		apierrors.NewInvalid(schema.GroupKind{Group: "tenancy.kcp.io", Kind: "Workspace"}, "orgs", nil),
	} {
		if TypeNotYetVisible(err) {
			t.Errorf("%v is retried", err)
		}
	}
}
