# The cloud-agnostic outputs (same names on aws and gcp).

output "artifact_bucket" {
  description = "Bucket for trained models and artifacts."
  value       = "${azurerm_storage_account.this.name}/${azurerm_storage_container.this["models"].name}"
}

output "data_bucket" {
  description = "Bucket for training data and captured requests."
  value       = "${azurerm_storage_account.this.name}/${azurerm_storage_container.this["data"].name}"
}

output "registry_url" {
  description = "Container registry for model-server images."
  value       = azurerm_container_registry.this.login_server
}

output "serving_endpoint" {
  description = "Name of the online inference endpoint."
  value       = azapi_resource.endpoint.name
}

output "notebook_name" {
  description = "Managed notebook for the team."
  value       = azurerm_machine_learning_compute_instance.notebook.name
}

output "network_id" {
  description = "VPC / VPC network / VNet id."
  value       = azurerm_virtual_network.this.id
}

output "private_subnet_ids" {
  description = "Subnets the workloads run in."
  value       = [azurerm_subnet.private.id]
}

output "encryption_key_id" {
  description = "Customer-managed key protecting the data."
  value       = azurerm_key_vault_key.data.id
}

output "identities" {
  description = "Workload identities by job: training, serving, ci."
  value       = { for job, identity in azurerm_user_assigned_identity.this : job => identity.principal_id }
}

output "alert_topic" {
  description = "Where alarms and budget alerts go."
  value       = azurerm_monitor_action_group.alerts.id
}
