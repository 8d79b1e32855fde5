# Every input of the network: a virtual network with an address space of your choosing.
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
  name     = "ml-network-complete"
  location = var.location
  tags     = local.tags
}

module "network" {
  source              = "../.."
  name                = "ml-complete"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  address_space       = "10.61.0.0/16"
  tags                = local.tags
}

output "vnet_id" {
  description = "ID of the virtual network."
  value       = module.network.vnet_id
}

output "subnet_id" {
  description = "Private subnet for workloads."
  value       = module.network.subnet_id
}
