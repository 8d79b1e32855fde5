# Every input of the bucket: a caller-owned rotated KMS key, 30 days of old versions, no
# force_destroy (production data).
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

locals {
  tags = { cost-center = "ml-platform", owner = "platform-team", environment = "prod" }
}

resource "aws_kms_key" "artifacts" {
  description             = "Model artifacts of the ML platform."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = local.tags
}

module "artifacts" {
  source                  = "../.."
  name                    = "ml-complete-artifacts"
  kms_key_arn             = aws_kms_key.artifacts.arn
  noncurrent_version_days = 30
  force_destroy           = false
  tags                    = local.tags
}

output "bucket" {
  description = "Name of the artifact bucket."
  value       = module.artifacts.bucket
}

output "kms_key_arn" {
  description = "Key that encrypts the bucket (the caller's)."
  value       = module.artifacts.kms_key_arn
}
