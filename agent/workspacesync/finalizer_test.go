package workspacesync

import (
	"context"
	"errors"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// The finalizer is written without locking the whole object: the hub controller's status
// writes in between do not make it conflict, another writer's finalizer change does, and is
// never undone.
func TestFinalizerPatch(t *testing.T) {
	ctx := context.Background()
	s := runtime.NewScheme()
	if err := workspacesv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	mine := workspacesv1alpha1.AgentFinalizer("east")
	for _, tc := range []struct {
		name         string
		finalizers   []string
		meanwhile    func(ws *workspacesv1alpha1.Workspace) // another writer, after the agent read ws
		add          bool
		wantConflict bool
		want         []string
	}{
		{name: "add, the hub wrote status meanwhile", add: true,
			meanwhile: func(ws *workspacesv1alpha1.Workspace) { ws.Status.Message = "hub" }, want: []string{mine}},
		{name: "add next to a tenant's finalizer", finalizers: []string{"tenant.example/keep"}, add: true,
			want: []string{"tenant.example/keep", mine}},
		{name: "add, a tenant added a finalizer meanwhile", add: true,
			meanwhile:    func(ws *workspacesv1alpha1.Workspace) { ws.Finalizers = []string{"tenant.example/keep"} },
			wantConflict: true, want: []string{"tenant.example/keep"}},
		{name: "remove, the hub wrote status meanwhile", finalizers: []string{"tenant.example/keep", mine},
			meanwhile: func(ws *workspacesv1alpha1.Workspace) { ws.Status.Message = "hub" }, want: []string{"tenant.example/keep"}},
		{name: "remove, a tenant's finalizer before it went meanwhile", finalizers: []string{"tenant.example/keep", mine},
			meanwhile:    func(ws *workspacesv1alpha1.Workspace) { ws.Finalizers = []string{mine} },
			wantConflict: true, want: []string{mine}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := fake.NewClientBuilder().WithScheme(s).WithStatusSubresource(&workspacesv1alpha1.Workspace{}).WithObjects(&workspacesv1alpha1.Workspace{
				ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "default", UID: "u", Finalizers: tc.finalizers},
			}).WithInterceptorFuncs(interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				// The API server answers a JSON patch that does not apply with 422; the fake
				// client, with the patch library's error.
				err := c.Patch(ctx, obj, patch, opts...)
				if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
					return apierrors.NewInvalid(workspacesv1alpha1.Kind("Workspace"), obj.GetName(), nil)
				}
				return err
			}}).Build()
			key := client.ObjectKey{Namespace: "default", Name: "nb"}
			read := &workspacesv1alpha1.Workspace{}
			if err := hub.Get(ctx, key, read); err != nil {
				t.Fatal(err)
			}
			if tc.meanwhile != nil {
				other := read.DeepCopy()
				tc.meanwhile(other)
				// The fake client answers each write with the stored object: the change is made
				// again for the second.
				if err := hub.Status().Update(ctx, other); err != nil {
					t.Fatal(err)
				}
				tc.meanwhile(other)
				if err := hub.Update(ctx, other); err != nil {
					t.Fatal(err)
				}
			}
			r := &Reconciler{Cluster: "east"}
			r.defaults()
			sc := &scope{hub: hub, key: key, ws: read}
			err := r.patchFinalizers(ctx, sc, mine, tc.add)
			if errors.Is(err, errConflict) != tc.wantConflict || (err != nil && !tc.wantConflict) {
				t.Fatalf("err = %v, want conflict %v", err, tc.wantConflict)
			}
			got := &workspacesv1alpha1.Workspace{}
			if err := hub.Get(ctx, key, got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Finalizers, tc.want) {
				t.Fatalf("finalizers %v, want %v", got.Finalizers, tc.want)
			}
			if tc.meanwhile != nil && !tc.wantConflict && got.Status.Message != "hub" {
				t.Fatal("the hub's status write was lost")
			}
			if !tc.wantConflict && !slices.Equal(sc.ws.Finalizers, tc.want) {
				t.Fatalf("the scope holds finalizers %v, want the hub's answer %v", sc.ws.Finalizers, tc.want)
			}
		})
	}
}
