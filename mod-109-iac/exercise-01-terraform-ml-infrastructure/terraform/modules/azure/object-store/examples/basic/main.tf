# A private storage account with datasets and models containers.
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

resource "azurerm_resource_group" "this" {
  name     = "ml-artifacts"
  location = var.location
  tags     = { cost-center = "ml-platform", owner = "platform-team" }
}

module "artifacts" {
  source              = "../.."
  name                = "mlplatformartifacts"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  tags                = { cost-center = "ml-platform", owner = "platform-team" }
}

output "container_names" {
  description = "Private blob containers."
  value       = module.artifacts.container_names
}
