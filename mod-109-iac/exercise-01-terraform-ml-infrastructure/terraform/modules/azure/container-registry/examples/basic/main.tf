# A private Premium registry reached through a private endpoint on this library's network.
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

provider "azurerm" {
  features {}
}

locals {
  tags = { cost-center = "ml-platform", owner = "platform-team" }
}

resource "azurerm_resource_group" "this" {
  name     = "ml-registry"
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

module "registry" {
  source                     = "../.."
  name                       = "mlplatformimages"
  resource_group_name        = azurerm_resource_group.this.name
  location                   = var.location
  private_endpoint_subnet_id = module.network.subnet_id
  private_dns_zone_ids       = [azurerm_private_dns_zone.acr.id]
  tags                       = local.tags
}

output "login_server" {
  description = "Where to push the serving image."
  value       = module.registry.login_server
}
