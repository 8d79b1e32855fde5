# Every input of the GPU pool on this library's network: one on-demand worker always (the
# job's coordinator), 25% on-demand above it, the rest spot; large root volumes for datasets.
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

variable "ami_id" {
  type        = string
  description = "GPU AMI (the Deep Learning AMI of the region)."
  default     = "ami-0123456789abcdef0"
}

locals {
  tags = { cost-center = "ml-training", owner = "platform-team", environment = "prod" }
}

module "network" {
  source             = "../../../network"
  name               = "gpu-complete"
  availability_zones = ["${var.region}a", "${var.region}b"]
  tags               = local.tags
}

module "gpu" {
  source                    = "../.."
  name                      = "gpu-complete"
  ami_id                    = var.ami_id
  instance_types            = ["g6e.xlarge", "g5.2xlarge", "g6.2xlarge"]
  subnet_ids                = module.network.private_subnet_ids
  security_group_ids        = [module.network.security_group_id]
  min_size                  = 0
  max_size                  = 8
  desired_capacity          = 0
  on_demand_base_capacity   = 1
  on_demand_percentage      = 25
  root_volume_gb            = 500
  wait_for_capacity_timeout = "0"
  tags                      = local.tags
}

output "autoscaling_group_name" {
  description = "Name of the auto scaling group."
  value       = module.gpu.autoscaling_group_name
}

output "launch_template_id" {
  description = "Launch template of the workers."
  value       = module.gpu.launch_template_id
}
