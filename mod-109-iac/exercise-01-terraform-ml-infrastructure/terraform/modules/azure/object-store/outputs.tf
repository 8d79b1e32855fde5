output "storage_account_id" {
  description = "ID of the storage account."
  value       = azurerm_storage_account.this.id
}

output "container_names" {
  description = "Names of the blob containers."
  value       = sort([for c in azurerm_storage_container.this : c.name])
}
