# Every input of the registry: images encrypted with a caller-owned key, 100 tagged images kept.
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

resource "aws_kms_key" "images" {
  description             = "Serving images of the ML platform."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = local.tags
}

module "registry" {
  source      = "../.."
  name        = "ml/serving"
  kms_key_arn = aws_kms_key.images.arn
  keep_images = 100
  tags        = local.tags
}

output "repository_url" {
  description = "URL to push the serving image to."
  value       = module.registry.repository_url
}

output "arn" {
  description = "ARN of the repository."
  value       = module.registry.arn
}
