# A bucket for model artifacts with its own rotated KMS key.
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

variable "bucket_name" {
  type        = string
  description = "Name of the artifact bucket."
  default     = "ml-basic-artifacts"
}

provider "aws" {
  region = var.region
}

module "artifacts" {
  source = "../.."
  name   = var.bucket_name
  tags   = { cost-center = "ml-platform", owner = "platform-team" }
}

output "bucket" {
  description = "Name of the artifact bucket."
  value       = module.artifacts.bucket
}
