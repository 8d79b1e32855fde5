output "registry_id" {
  description = "ID of the container registry."
  value       = azurerm_container_registry.this.id
}

output "login_server" {
  description = "Login server to push images to (NAME.azurecr.io)."
  value       = azurerm_container_registry.this.login_server
}

output "private_endpoint_id" {
  description = "ID of the registry's private endpoint; null when none was requested."
  value       = one(azurerm_private_endpoint.registry[*].id)
}
