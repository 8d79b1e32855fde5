# GCP staging: the ml-platform module with this environment's sizes (terraform.tfvars).
# Partial "gcs" backend: `cloudml` passes the bucket/container and the per-env key at init.
# Checked statically here (fmt, checkov, interface parity): the provider cannot be downloaded.

terraform {
  required_version = ">= 1.10"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.30, < 7.0"
    }
  }
  backend "gcs" {}
}

provider "google" {
  project = var.project
  region  = var.region
}

module "platform" {
  source = "../../../modules/gcp/ml-platform"

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
