# Every input of the network: a /16 of your choosing over three zones, the S3 endpoint on.
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
  name               = "ml-complete"
  cidr_block         = "10.42.0.0/16"
  availability_zones = ["${var.region}a", "${var.region}b", "${var.region}c"]
  enable_s3_endpoint = true
  tags               = { cost-center = "ml-platform", owner = "platform-team", environment = "prod" }
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.network.vpc_id
}

output "private_subnet_ids" {
  description = "One private subnet per zone."
  value       = module.network.private_subnet_ids
}

output "security_group_id" {
  description = "Security group for ML workloads."
  value       = module.network.security_group_id
}
