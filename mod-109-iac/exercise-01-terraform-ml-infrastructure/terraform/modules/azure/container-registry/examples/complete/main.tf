# Every input of the registry: replicated to a second region, untagged manifests purged after
# 7 days, a private endpoint whose DNS zone the network resolves, AcrPull for a serving identity.
terraform {
  required_version = ">= 1.7, < 2.0"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.0, < 5.0"
    }
  }
}

variable "location" {
  type        = string
  description = "Azure region to deploy into."
  default     = "westeurope"
}

variable "replica_locations" {
  type        = list(string)
  description = "Regions the registry is replicated to."
  default     = ["northeurope"]
}

provider "azurerm" {
  features {}
}

locals {
  tags = { cost-center = "ml-platform", owner = "platform-team", environment = "prod" }
}

resource "azurerm_resource_group" "this" {
  name     = "ml-registry-complete"
  location = var.location
  tags     = local.tags
}

module "network" {
  source              = "../../../network"
  name                = "ml-registry"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  tags                = local.tags
}

resource "azurerm_private_dns_zone" "acr" {
  name                = "privatelink.azurecr.io"
  resource_group_name = azurerm_resource_group.this.name
  tags                = local.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "acr" {
  name                  = "ml-registry"
  resource_group_name   = azurerm_resource_group.this.name
  private_dns_zone_name = azurerm_private_dns_zone.acr.name
  virtual_network_id    = module.network.vnet_id
  tags                  = local.tags
}

resource "azurerm_user_assigned_identity" "serving" {
  name                = "ml-serving"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  tags                = local.tags
}

module "registry" {
  source                     = "../.."
  name                       = "mlcompleteimages"
  resource_group_name        = azurerm_resource_group.this.name
  location                   = var.location
  georeplication_locations   = var.replica_locations
  untagged_retention_days    = 7
  private_endpoint_subnet_id = module.network.subnet_id
  private_dns_zone_ids       = [azurerm_private_dns_zone.acr.id]
  pull_principal_ids         = [azurerm_user_assigned_identity.serving.principal_id]
  tags                       = local.tags
}

output "login_server" {
  description = "Where to push the serving image."
  value       = module.registry.login_server
}

output "private_endpoint_id" {
  description = "Private endpoint of the registry."
  value       = module.registry.private_endpoint_id
}
