# Azure dev: the ml-platform module with this environment's sizes (terraform.tfvars).
# Partial "azurerm" backend: `cloudml` passes the bucket/container and the per-env key at init.
# Checked statically here (fmt, checkov, interface parity): the provider cannot be downloaded.

terraform {
  required_version = ">= 1.10"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 3.100, < 5.0"
    }
    azapi = {
      source  = "azure/azapi"
      version = ">= 1.13, < 3.0"
    }
  }
  backend "azurerm" {}
}

provider "azurerm" {
  features {}
}

provider "azapi" {}

module "platform" {
  source = "../../../modules/azure/ml-platform"

  name                   = var.name
  environment            = var.environment
  project                = var.project
  region                 = var.region
  network_cidr           = var.network_cidr
  serving_instance_type  = var.serving_instance_type
  serving_instance_count = var.serving_instance_count
  notebook_instance_type = var.notebook_instance_type
  model_image            = var.model_image
  high_availability      = var.high_availability
  deletion_protection    = var.deletion_protection
  enable_budget          = var.enable_budget
  monthly_budget         = var.monthly_budget
  alert_email            = var.alert_email
  labels                 = var.labels
}
