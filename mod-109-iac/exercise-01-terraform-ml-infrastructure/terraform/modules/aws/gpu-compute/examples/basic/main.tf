# Spot-first GPU workers, scaled to zero until a job needs them.
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

variable "ami_id" {
  type        = string
  description = "GPU AMI (the Deep Learning AMI of the region)."
  default     = "ami-0123456789abcdef0"
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets for the workers."
  default     = ["subnet-00000000000000000"]
}

provider "aws" {
  region = var.region
}

module "gpu" {
  source                    = "../.."
  name                      = "gpu-basic"
  ami_id                    = var.ami_id
  instance_types            = ["g5.xlarge", "g6.xlarge", "g4dn.xlarge"]
  subnet_ids                = var.subnet_ids
  security_group_ids        = []
  wait_for_capacity_timeout = "0"
  tags                      = { cost-center = "ml-platform", owner = "platform-team" }
}

output "autoscaling_group_name" {
  description = "Name of the auto scaling group."
  value       = module.gpu.autoscaling_group_name
}
