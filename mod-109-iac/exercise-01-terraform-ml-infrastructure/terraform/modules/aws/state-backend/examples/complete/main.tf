# Every input of the state backend: bucket, DynamoDB lock table and two years of state history.
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
  source                  = "../.."
  bucket_name             = "tfml-complete-state"
  lock_table_name         = "tfml-complete-locks"
  noncurrent_version_days = 730
  tags                    = { cost-center = "platform", owner = "platform-team", environment = "prod" }
}

output "backend_config" {
  description = "Settings for backend \"s3\"."
  value       = module.state.backend_config
}

output "lock_table" {
  description = "Name of the DynamoDB lock table."
  value       = module.state.lock_table
}
