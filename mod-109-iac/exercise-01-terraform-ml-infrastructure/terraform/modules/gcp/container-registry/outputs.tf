output "repository_id" {
  description = "ID of the repository (projects/P/locations/L/repositories/R)."
  value       = google_artifact_registry_repository.this.id
}

output "repository_url" {
  description = "Docker host/path to push images to (LOCATION-docker.pkg.dev/PROJECT/NAME)."
  value       = "${google_artifact_registry_repository.this.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.this.repository_id}"
}
