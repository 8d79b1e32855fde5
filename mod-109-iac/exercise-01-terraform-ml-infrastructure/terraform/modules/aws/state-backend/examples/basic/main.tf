# Remote state for the platform: bucket + lock table.
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

module "state" {
  source          = "../.."
  bucket_name     = "tfml-basic-state"
  lock_table_name = "tfml-basic-locks"
  tags            = { cost-center = "platform", owner = "platform-team" }
}

output "backend_config" {
  description = "Settings for backend \"s3\"."
  value       = module.state.backend_config
}
