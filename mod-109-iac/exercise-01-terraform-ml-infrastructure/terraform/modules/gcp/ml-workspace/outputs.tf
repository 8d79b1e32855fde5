output "service_account_email" {
  description = "E-mail of the workspace's service account (notebook and training jobs)."
  value       = google_service_account.workspace.email
}

output "kms_key_id" {
  description = "ID of the workspace's CMEK key."
  value       = google_kms_crypto_key.this.id
}

output "tensorboard_id" {
  description = "ID of the Vertex AI Tensorboard."
  value       = google_vertex_ai_tensorboard.this.id
}

output "notebook_proxy_uri" {
  description = "JupyterLab URI of the Workbench instance (through the inverting proxy)."
  value       = google_workbench_instance.this.proxy_uri
}
