# Every provider of the library, bounded so that each module's own constraint is met: google
# 6.x (gcp/network and gcp/object-store allow < 7.0, the newer modules >= 6.0), azurerm >= 4.42
# (azure/ml-workspace), aws 5.x.
terraform {
  required_version = ">= 1.7, < 2.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 7.0"
    }
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.42, < 5.0"
    }
  }
}
