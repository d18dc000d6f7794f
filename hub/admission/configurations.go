package admission

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Paths the hub serves the webhooks at.
const (
	CreatorPath   = "/mutate-creator"
	OwnershipPath = "/validate-ownership"
)

// Names of the webhook configurations in root:atrium, and of their webhooks.
const (
	CreatorConfiguration   = "atrium-creator"
	OwnershipConfiguration = "atrium-ownership"

	creatorOnCreate = "create.creator.workspaces.atrium.dev"
	creatorOnUpdate = "update.creator.workspaces.atrium.dev"
	ownership       = "ownership.workspaces.atrium.dev"
	shareOwnership  = "ownership.workspaceshares.atrium.dev"
)

// CEL of the webhooks' matchConditions: they keep requests that need no answer from the hub
// away from it, so these never wait for, or fail with, the webhook server.
const (
	notAtriumOrPlatform = `!request.userInfo.groups.exists(g, g == 'system:masters' || g == 'system:kcp:admin' || ` +
		`g == 'atrium:hub-controllers' || g == 'atrium:agents')`
	notAtrium = `!request.userInfo.groups.exists(g, g == 'atrium:hub-controllers' || g == 'atrium:agents')`
	ownerOnly = `(has(oldObject.spec.ownershipType) && oldObject.spec.ownershipType == 'OwnerOnly') || ` +
		`(has(oldObject.status) && has(oldObject.status.effective) && has(oldObject.status.effective.ownershipType) && ` +
		`oldObject.status.effective.ownershipType == 'OwnerOnly')`
	notTheOwner = `!(has(oldObject.metadata.annotations) && 'atrium.dev/created-by' in oldObject.metadata.annotations && ` +
		`oldObject.metadata.annotations['atrium.dev/created-by'] == request.userInfo.username)`
	// A share's users or groups change, by someone other than its creator, or by a creator
	// who made it as an admin (they must still be one).
	shareSpecChanges   = `object.spec != oldObject.spec`
	notTheShareCreator = notTheOwner + ` || (has(oldObject.metadata.annotations) && 'atrium.dev/created-by-admin' in oldObject.metadata.annotations)`
)

// creatorChanges: an update adds, changes or removes one of the annotations the creator
// webhook records.
var creatorChanges = annotationChanges(workspacesv1alpha1.AnnotationCreatedBy) + ` || ` +
	annotationChanges(workspacesv1alpha1.AnnotationCreatedByAdmin)

// annotationChanges is the CEL that is true when an update changes annotation key (an absent
// one reads as empty).
func annotationChanges(key string) string {
	value := func(obj string) string {
		return fmt.Sprintf(`(has(%[1]s.metadata.annotations) && '%[2]s' in %[1]s.metadata.annotations ? %[1]s.metadata.annotations['%[2]s'] : '')`, obj, key)
	}
	return value("object") + " != " + value("oldObject")
}

// ValidateURL checks the base URL kcp calls the hub's webhooks at.
func ValidateURL(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("invalid webhook URL %q: %w", base, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("invalid webhook URL %q: kcp calls webhooks over https only (https://<host>:<port>)", base)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("invalid webhook URL %q: no user, query or fragment allowed", base)
	}
	return nil
}

// Configurations returns the webhook configurations of root:atrium that send Workspaces and
// WorkspaceShares of every organization to the hub at base (https://host:port, the address
// kcp's shards reach the hub at), whose serving certificate caBundle (PEM) signs.
func Configurations(base string, caBundle []byte) (*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	if err := ValidateURL(base); err != nil {
		return nil, nil, err
	}
	if len(caBundle) == 0 {
		return nil, nil, errors.New("a CA bundle for the hub's webhook serving certificate is required")
	}
	base = strings.TrimSuffix(base, "/")
	client := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{URL: ptr.To(base + path), CABundle: caBundle}
	}
	rule := func(op admissionregistrationv1.OperationType, resources ...string) []admissionregistrationv1.RuleWithOperations {
		return []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{op},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{workspacesv1alpha1.GroupName}, APIVersions: []string{"*"},
				Resources: resources, Scope: ptr.To(admissionregistrationv1.NamespacedScope),
			},
		}}
	}
	sideEffects := ptr.To(admissionregistrationv1.SideEffectClassNone)
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: CreatorConfiguration},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			// Every create: nothing is created without its creator, so no answer means no create.
			Name:                    creatorOnCreate,
			ClientConfig:            client(CreatorPath),
			Rules:                   rule(admissionregistrationv1.Create, "workspaces", "workspaceshares"),
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             sideEffects,
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](10),
			ReinvocationPolicy:      ptr.To(admissionregistrationv1.NeverReinvocationPolicy),
		}, {
			// Only updates that touch the creator, never Atrium's own: while the hub cannot
			// answer, the policy atrium-workspace-owner refuses the change instead.
			Name:                    creatorOnUpdate,
			ClientConfig:            client(CreatorPath),
			Rules:                   rule(admissionregistrationv1.Update, "workspaces", "workspaceshares"),
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			SideEffects:             sideEffects,
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](10),
			ReinvocationPolicy:      ptr.To(admissionregistrationv1.NeverReinvocationPolicy),
			MatchConditions: []admissionregistrationv1.MatchCondition{
				{Name: "not-atrium", Expression: notAtrium},
				{Name: "creator-changes", Expression: creatorChanges},
			},
		}},
	}
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: OwnershipConfiguration},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			// Only what the owner's name cannot settle: someone else changing or deleting an
			// OwnerOnly workspace. No answer refuses them (fail closed); the owner and Atrium's
			// controllers never reach the webhook.
			Name:         ownership,
			ClientConfig: client(OwnershipPath),
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update, admissionregistrationv1.Delete},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{workspacesv1alpha1.GroupName}, APIVersions: []string{"*"},
					Resources: []string{"workspaces"}, Scope: ptr.To(admissionregistrationv1.NamespacedScope),
				},
			}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             sideEffects,
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](10),
			MatchConditions: []admissionregistrationv1.MatchCondition{
				{Name: "owner-only", Expression: ownerOnly},
				{Name: "not-atrium-or-platform", Expression: notAtriumOrPlatform},
				{Name: "not-the-owner", Expression: notTheOwner},
			},
		}, {
			// Only changes of whom a share lets in by someone other than its creator (or by a
			// creator who made it as an admin): the owner of its workspace or an organization
			// admin may. No answer refuses them (fail closed); the creator's own changes and
			// Atrium's never reach the webhook.
			Name:                    shareOwnership,
			ClientConfig:            client(OwnershipPath),
			Rules:                   rule(admissionregistrationv1.Update, "workspaceshares"),
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             sideEffects,
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](10),
			MatchConditions: []admissionregistrationv1.MatchCondition{
				{Name: "spec-changes", Expression: shareSpecChanges},
				{Name: "not-atrium-or-platform", Expression: notAtriumOrPlatform},
				{Name: "not-the-creator", Expression: notTheShareCreator},
			},
		}},
	}
	return mutating, validating, nil
}
