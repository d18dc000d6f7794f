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

// Package apply owns how the agent writes objects on the compute cluster without needless
// writes: an object is server-side applied with field manager FieldManager, carries
// DesiredHashAnnotation (a hash of what we would write), and is left alone when that hash
// matches and every field we set still has our value (fields the API server defaulted or
// others added are ignored). So a change of our intent, including removing a field, or an edit
// of a field we own is repaired, and reconciling an unchanged object sends no write request.
// The local controllers (agent/materialize, agent/confine) write through it.
package apply

// FieldManager is the server-side apply field manager of everything the agent writes on the
// compute cluster.
const FieldManager = "atrium-agent"

// DesiredHashAnnotation is the hash of an object as the agent last applied it.
const DesiredHashAnnotation = "atrium.dev/desired-hash"
