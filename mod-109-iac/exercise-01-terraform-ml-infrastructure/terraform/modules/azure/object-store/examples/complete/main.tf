# Every input of the storage account: private containers for datasets, models and features.
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
  tags = { cost-center = "ml-platform", owner = "platform-team", environment = "prod" }
}

resource "azurerm_resource_group" "this" {
  name     = "ml-artifacts-complete"
  location = var.location
  tags     = local.tags
}

module "artifacts" {
  source              = "../.."
  name                = "mlcompleteartifacts"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  containers          = ["datasets", "models", "features"]
  tags                = local.tags
}

output "storage_account_id" {
  description = "ID of the storage account."
  value       = module.artifacts.storage_account_id
}

output "container_names" {
  description = "Private blob containers."
  value       = module.artifacts.container_names
}
