# A Premium container registry for ML images: no admin user, no anonymous pull, no public
# network access (a private endpoint instead), quarantine, content trust, retention of untagged
# manifests, zone redundancy and optional geo-replication; AcrPull for the given principals.

resource "azurerm_container_registry" "this" {
  name                          = var.name
  resource_group_name           = var.resource_group_name
  location                      = var.location
  sku                           = "Premium"
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  public_network_access_enabled = false
  network_rule_bypass_option    = "AzureServices"
  export_policy_enabled         = false
  quarantine_policy_enabled     = true
  trust_policy_enabled          = true
  retention_policy_in_days      = var.untagged_retention_days
  zone_redundancy_enabled       = true
  data_endpoint_enabled         = true
  tags                          = var.tags
  identity {
    type = "SystemAssigned"
  }
  dynamic "georeplications" {
    for_each = toset(var.georeplication_locations)
    content {
      location                = georeplications.value
      zone_redundancy_enabled = true
      tags                    = var.tags
    }
  }
}

resource "azurerm_private_endpoint" "registry" {
  count               = var.private_endpoint_subnet_id == null ? 0 : 1
  name                = "${var.name}-registry"
  resource_group_name = var.resource_group_name
  location            = var.location
  subnet_id           = var.private_endpoint_subnet_id
  tags                = var.tags
  private_service_connection {
    name                           = "${var.name}-registry"
    private_connection_resource_id = azurerm_container_registry.this.id
    subresource_names              = ["registry"]
    is_manual_connection           = false
  }
  dynamic "private_dns_zone_group" {
    for_each = length(var.private_dns_zone_ids) == 0 ? [] : [var.private_dns_zone_ids]
    content {
      name                 = "registry"
      private_dns_zone_ids = private_dns_zone_group.value
    }
  }
}

resource "azurerm_role_assignment" "pull" {
  for_each             = toset(var.pull_principal_ids)
  scope                = azurerm_container_registry.this.id
  role_definition_name = "AcrPull"
  principal_id         = each.value
}
