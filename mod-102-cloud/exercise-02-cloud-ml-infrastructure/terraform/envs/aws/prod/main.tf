# AWS prod: the ml-platform module with this environment's sizes (terraform.tfvars).
# The S3 backend is partial on purpose: `cloudml` passes bucket, key (aws/prod/terraform.tfstate),
# region, encrypt and use_lockfile at init, so one state bucket serves every cloud and env.

terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
  backend "s3" {}
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      cost-center = "ml-platform"
      environment = var.environment
    }
  }
}

module "platform" {
  source = "../../../modules/aws/ml-platform"

  name                   = var.name
  environment            = var.environment
  project                = var.project
  region                 = var.region
  network_cidr           = var.network_cidr
  serving_instance_type  = var.serving_instance_type
  serving_instance_count = var.serving_instance_count
  notebook_instance_type = var.notebook_instance_type
  model_image            = var.model_image
  high_availability      = var.high_availability
  deletion_protection    = var.deletion_protection
  enable_budget          = var.enable_budget
  monthly_budget         = var.monthly_budget
  alert_email            = var.alert_email
  labels                 = var.labels
}
