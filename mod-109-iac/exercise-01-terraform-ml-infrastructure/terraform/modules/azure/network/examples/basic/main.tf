# A virtual network with a private subnet for ML workloads.
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
  name     = "ml-network"
  location = var.location
  tags     = { cost-center = "ml-platform", owner = "platform-team" }
}

module "network" {
  source              = "../.."
  name                = "ml-platform"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  tags                = { cost-center = "ml-platform", owner = "platform-team" }
}

output "subnet_id" {
  description = "Private subnet for workloads."
  value       = module.network.subnet_id
}
