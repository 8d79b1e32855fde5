# Every input of the workspace: images from this library's private registry, the deployer's
# range through the Key Vault firewall, approved outbound only, 90 days of logs.
terraform {
  required_version = ">= 1.7, < 2.0"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.42, < 5.0"
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
  tags = { cost-center = "ml-platform", owner = "platform-team", environment = "prod" }
}

resource "azurerm_resource_group" "this" {
  name     = "ml-workspace-complete"
  location = var.location
  tags     = local.tags
}

variable "deployer_ip_ranges" {
  type        = list(string)
  description = "Egress ranges of the machine running terraform (Key Vault firewall)."
  default     = ["203.0.113.0/24"]
}

module "network" {
  source              = "../../../network"
  name                = "ml-workspace"
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
  source                     = "../../../container-registry"
  name                       = "mlworkspaceimages"
  resource_group_name        = azurerm_resource_group.this.name
  location                   = var.location
  private_endpoint_subnet_id = module.network.subnet_id
  private_dns_zone_ids       = [azurerm_private_dns_zone.acr.id]
  pull_principal_ids         = [module.workspace.identity_principal_id]
  tags                       = local.tags
}

module "workspace" {
  source                = "../.."
  name                  = "research"
  resource_group_name   = azurerm_resource_group.this.name
  location              = var.location
  container_registry_id = module.registry.registry_id
  allowed_ip_ranges     = var.deployer_ip_ranges
  isolation_mode        = "AllowOnlyApprovedOutbound"
  log_retention_days    = 90
  tags                  = local.tags
}

output "workspace_id" {
  description = "ID of the workspace."
  value       = module.workspace.workspace_id
}

output "discovery_url" {
  description = "Discovery URL of the workspace."
  value       = module.workspace.discovery_url
}
