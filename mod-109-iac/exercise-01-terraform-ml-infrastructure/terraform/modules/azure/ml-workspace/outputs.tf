output "workspace_id" {
  description = "ID of the Azure Machine Learning workspace."
  value       = azurerm_machine_learning_workspace.this.id
}

output "discovery_url" {
  description = "Discovery URL of the workspace (the SDK's endpoint)."
  value       = azurerm_machine_learning_workspace.this.discovery_url
}

output "identity_principal_id" {
  description = "Object ID of the workspace's user-assigned identity (grant it AcrPull, data access)."
  value       = azurerm_user_assigned_identity.workspace.principal_id
}

output "key_vault_id" {
  description = "ID of the workspace's Key Vault."
  value       = azurerm_key_vault.this.id
}

output "storage_account_id" {
  description = "ID of the workspace's storage account."
  value       = azurerm_storage_account.this.id
}

output "application_insights_id" {
  description = "ID of the workspace's Application Insights."
  value       = azurerm_application_insights.this.id
}
