# A complete serving stack from this library: network, artifact bucket, serving role and the
# SageMaker endpoint with alarms, every input of the module set. Applied on moto by the
# integration tests.
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

variable "name" {
  type        = string
  description = "Name of the stack (prefixes every resource)."
  default     = "tfml-complete"
}

variable "model_image" {
  type        = string
  description = "Inference image URI."
  default     = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3-cpu-py311"
}

variable "artifact_version_days" {
  type        = number
  description = "Days the artifact bucket keeps old model versions (null: keep all, no lifecycle rule)."
  default     = 90
}

variable "alarm_topic_arns" {
  type        = list(string)
  description = "SNS topics the latency and 5XX alarms notify (the on-call's)."
  default     = []
}

variable "enable_autoscaling" {
  type        = bool
  description = "Scale on invocations per instance (off on moto: its Application Auto Scaling hangs)."
  default     = false
}

provider "aws" {
  region = var.region
}

locals {
  tags = { cost-center = "ml-platform", owner = "platform-team", stack = var.name }
}

module "network" {
  source             = "../../../network"
  name               = var.name
  availability_zones = ["${var.region}a", "${var.region}b"]
  tags               = local.tags
}

module "artifacts" {
  source                  = "../../../object-store"
  name                    = "${var.name}-artifacts"
  force_destroy           = true
  noncurrent_version_days = var.artifact_version_days
  tags                    = local.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "serving" {
  name               = "${var.name}-serving"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

module "serving" {
  source             = "../.."
  name               = "${var.name}-endpoint"
  model_image        = var.model_image
  model_data_url     = "s3://${module.artifacts.bucket}/models/churn/model.tar.gz"
  execution_role_arn = aws_iam_role.serving.arn
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.security_group_id]
  capture_s3_uri     = "s3://${module.artifacts.bucket}/capture"
  kms_key_arn        = module.artifacts.kms_key_arn
  tags               = local.tags
  # sizing, capture and alarms (the values moto is checked against)
  instance_type        = "ml.m5.large"
  instance_count       = 1
  max_instance_count   = 4
  enable_autoscaling   = var.enable_autoscaling
  capture_percentage   = 100
  latency_threshold_ms = 500
  alarm_actions        = var.alarm_topic_arns
}

output "endpoint_name" {
  description = "Name of the SageMaker endpoint."
  value       = module.serving.endpoint_name
}

output "bucket" {
  description = "Artifact bucket."
  value       = module.artifacts.bucket
}

output "vpc_id" {
  description = "VPC of the stack."
  value       = module.network.vpc_id
}

output "alarm_names" {
  description = "Alarms on the endpoint."
  value       = module.serving.alarm_names
}
