# An Azure Machine Learning workspace with its Key Vault, storage and App Insights.
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

variable "deployer_ip_ranges" {
  type        = list(string)
  description = "Egress ranges of the machine running terraform (Key Vault firewall)."
  default     = []
}

provider "azurerm" {
  features {}
}

locals {
  tags = { cost-center = "ml-platform", owner = "platform-team" }
}

resource "azurerm_resource_group" "this" {
  name     = "ml-workspace"
  location = var.location
  tags     = local.tags
}

module "workspace" {
  source              = "../.."
  name                = "research"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  allowed_ip_ranges   = var.deployer_ip_ranges
  tags                = local.tags
}

output "workspace_id" {
  description = "ID of the workspace."
  value       = module.workspace.workspace_id
}
