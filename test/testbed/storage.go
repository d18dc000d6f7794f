package testbed

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// StorageClassName is the default StorageClass of test-bed compute clusters. Its provisioner
// is a loop in the test bed that gives every pending claim of the class a hostPath
// PersistentVolume, as a cloud provisioner would (no data is ever written: kwok runs no
// containers).
const StorageClassName = "standard"

const provisionerName = "testbed.atrium.dev/hostpath"

// ensureStorageClass creates the default StorageClass.
func (c *ComputeCluster) ensureStorageClass(ctx context.Context, cs kubernetes.Interface) error {
	sc := &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: StorageClassName, Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner:       provisionerName,
		ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimDelete),
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate),
	}
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create StorageClass: %w", err)
	}
	return nil
}

// provision runs until ctx ends: every 250 ms it gives pending claims of the class a volume and
// deletes released volumes (reclaim policy Delete).
func (c *ComputeCluster) provision(ctx context.Context, cs kubernetes.Interface) {
	ticker := time.NewTicker(250 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		c.provisionOnce(ctx, cs)
	}
}

func (c *ComputeCluster) provisionOnce(ctx context.Context, cs kubernetes.Interface) {
	claims, err := cs.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return // the API server may be stopped on purpose; try again
	}
	for _, pvc := range claims.Items {
		if pvc.Status.Phase != corev1.ClaimPending || pvc.Spec.VolumeName != "" || !pvc.DeletionTimestamp.IsZero() {
			continue
		}
		class := StorageClassName
		if pvc.Spec.StorageClassName != nil && *pvc.Spec.StorageClassName != "" {
			class = *pvc.Spec.StorageClassName
		}
		if class != StorageClassName {
			continue
		}
		size := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{
				Name:        "pv-" + string(pvc.UID),
				Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": provisionerName},
			},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
				AccessModes:                   pvc.Spec.AccessModes,
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
				StorageClassName:              class,
				ClaimRef: &corev1.ObjectReference{
					Kind: "PersistentVolumeClaim", APIVersion: "v1",
					Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
				},
				PersistentVolumeSource: corev1.PersistentVolumeSource{
					HostPath: &corev1.HostPathVolumeSource{Path: filepath.Join(c.Dir, "volumes", string(pvc.UID))},
				},
			},
		}
		_, _ = cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	}
	volumes, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, pv := range volumes.Items {
		if pv.Status.Phase == corev1.VolumeReleased && pv.Annotations["pv.kubernetes.io/provisioned-by"] == provisionerName {
			_ = cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
		}
	}
}
