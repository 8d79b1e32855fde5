# The smallest useful network: two zones, S3 endpoint on.
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

module "network" {
  source             = "../.."
  name               = "ml-basic"
  availability_zones = ["${var.region}a", "${var.region}b"]
  tags               = { cost-center = "ml-platform", owner = "platform-team" }
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.network.vpc_id
}
