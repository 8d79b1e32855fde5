terraform {
  required_version = ">= 1.7"
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
}
