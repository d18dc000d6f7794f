/*
Copyright The Atrium Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

// Labels the agent writes on compute-cluster objects, and what they mean to it.
const (
	// LabelHomeOf marks a PersistentVolumeClaim as the home volume of the LocalWorkspace named
	// by its value (in the claim's namespace). The agent sets it on every home claim it creates
	// or keeps; a claim carrying it is never mounted as another workspace's secondary volume.
	// A platform team restoring a home volume creates the claim <workspace>-home with this
	// label, and the workspace adopts it instead of refusing a claim it does not own.
	LabelHomeOf = "atrium.dev/home-of"
)
