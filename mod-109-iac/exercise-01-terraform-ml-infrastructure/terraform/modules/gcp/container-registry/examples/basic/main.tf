# A CMEK-encrypted image repository with its key ring and key.
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
  description = "GCP region of the repository and its key."
  default     = "europe-west4"
}

provider "google" {
  project = var.project_id
  region  = var.region
}

resource "google_kms_key_ring" "images" {
  name     = "ml-images"
  location = var.region
}

resource "google_kms_crypto_key" "images" {
  name            = "ml-images"
  key_ring        = google_kms_key_ring.images.id
  rotation_period = "7776000s"
  labels          = { cost-center = "ml-platform", owner = "platform-team" }
  lifecycle {
    prevent_destroy = true
  }
}

module "registry" {
  source       = "../.."
  project_id   = var.project_id
  name         = "ml-serving"
  location     = var.region
  kms_key_name = google_kms_crypto_key.images.id
  labels       = { cost-center = "ml-platform", owner = "platform-team" }
}

output "repository_url" {
  description = "Where to push the serving image."
  value       = module.registry.repository_url
}
