# Every input of the registry: CMEK, cleanup keeping 50 versions and 7 days of untagged
# images, CI pushing and the serving service account pulling.
terraform {
  required_version = ">= 1.7, < 2.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}

variable "project_id" {
  type        = string
  description = "GCP project to deploy into."
}

variable "region" {
  type        = string
  description = "GCP region."
  default     = "europe-west4"
}

provider "google" {
  project = var.project_id
  region  = var.region
}

locals {
  labels = { cost-center = "ml-platform", owner = "platform-team", environment = "prod" }
}

resource "google_kms_key_ring" "images" {
  name     = "ml-images"
  location = var.region
}

resource "google_kms_crypto_key" "images" {
  name            = "ml-images"
  key_ring        = google_kms_key_ring.images.id
  rotation_period = "7776000s"
  labels          = local.labels
  lifecycle {
    prevent_destroy = true
  }
}

resource "google_service_account" "ci" {
  account_id   = "ml-images-ci"
  display_name = "CI pushing serving images"
}

resource "google_service_account" "serving" {
  account_id   = "ml-serving"
  display_name = "Serving workloads pulling images"
}

module "registry" {
  source                  = "../.."
  project_id              = var.project_id
  name                    = "ml-serving"
  location                = var.region
  kms_key_name            = google_kms_crypto_key.images.id
  keep_images             = 50
  untagged_retention_days = 7
  cleanup_dry_run         = false
  readers                 = ["serviceAccount:${google_service_account.serving.email}"]
  writers                 = ["serviceAccount:${google_service_account.ci.email}"]
  labels                  = local.labels
}

output "repository_url" {
  description = "Where to push the serving image."
  value       = module.registry.repository_url
}
