# The smallest serving endpoint: the required inputs only (ml.m5.large, one instance, every
# request captured). The role, subnets and key come from elsewhere; examples/complete builds them.
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

variable "model_image" {
  type        = string
  description = "Inference image URI."
  default     = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3-cpu-py311"
}

variable "execution_role_arn" {
  type        = string
  description = "IAM role SageMaker assumes to pull the image and the model."
  default     = "arn:aws:iam::123456789012:role/serving"
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets of the model containers."
  default     = ["subnet-00000000000000000"]
}

variable "security_group_id" {
  type        = string
  description = "Security group of the model containers."
  default     = "sg-00000000000000000"
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for the endpoint volumes and the captured data."
  default     = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
}

module "serving" {
  source             = "../.."
  name               = "churn-basic"
  model_image        = var.model_image
  model_data_url     = "s3://ml-basic-artifacts/models/churn/model.tar.gz"
  execution_role_arn = var.execution_role_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = [var.security_group_id]
  capture_s3_uri     = "s3://ml-basic-artifacts/capture"
  kms_key_arn        = var.kms_key_arn
  tags               = { cost-center = "ml-platform", owner = "platform-team" }
}

output "endpoint_name" {
  description = "Name of the SageMaker endpoint."
  value       = module.serving.endpoint_name
}
