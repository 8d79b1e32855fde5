# A repository for the serving image.
terraform {
  required_version = ">= 1.7, < 2.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}

variable "region" {
  type        = string
  description = "AWS region to deploy into."
  default     = "us-east-1"
}

provider "aws" {
  region = var.region
}

module "registry" {
  source = "../.."
  name   = "ml/serving"
  tags   = { cost-center = "ml-platform", owner = "platform-team" }
}

output "repository_url" {
  description = "URL to push the serving image to."
  value       = module.registry.repository_url
}
