# The cloud-agnostic outputs (same names on aws and azure).

output "artifact_bucket" {
  description = "Bucket for trained models and artifacts."
  value       = google_storage_bucket.this["models"].name
}

output "data_bucket" {
  description = "Bucket for training data and captured requests."
  value       = google_storage_bucket.this["data"].name
}

output "registry_url" {
  description = "Container registry for model-server images."
  value       = "${var.region}-docker.pkg.dev/${var.project}/${google_artifact_registry_repository.models.repository_id}"
}

output "serving_endpoint" {
  description = "Name of the online inference endpoint."
  value       = google_vertex_ai_endpoint.this.name
}

output "notebook_name" {
  description = "Managed notebook for the team."
  value       = google_workbench_instance.this.name
}

output "network_id" {
  description = "VPC / VPC network / VNet id."
  value       = google_compute_network.this.id
}

output "private_subnet_ids" {
  description = "Subnets the workloads run in."
  value       = [google_compute_subnetwork.private.id]
}

output "encryption_key_id" {
  description = "Customer-managed key protecting the data."
  value       = google_kms_crypto_key.this.id
}

output "identities" {
  description = "Workload identities by job: training, serving, ci."
  value       = { for job, sa in google_service_account.this : job => sa.email }
}

output "alert_topic" {
  description = "Where alarms and budget alerts go."
  value       = google_pubsub_topic.alerts.id
}
