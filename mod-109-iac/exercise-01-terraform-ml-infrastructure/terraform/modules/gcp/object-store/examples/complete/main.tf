# Every input of the bucket: CMEK with a rotated key the storage service agent may use, 30
# days of old versions.
terraform {
  required_version = ">= 1.7, < 2.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.30, < 7.0"
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

resource "google_kms_key_ring" "artifacts" {
  name     = "ml-artifacts"
  location = var.region
}

resource "google_kms_crypto_key" "artifacts" {
  name            = "ml-artifacts"
  key_ring        = google_kms_key_ring.artifacts.id
  rotation_period = "7776000s"
  labels          = local.labels
  lifecycle {
    prevent_destroy = true
  }
}

data "google_storage_project_service_account" "gcs" {}

resource "google_kms_crypto_key_iam_member" "gcs" {
  crypto_key_id = google_kms_crypto_key.artifacts.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

module "artifacts" {
  source                  = "../.."
  project_id              = var.project_id
  name                    = "${var.project_id}-ml-artifacts"
  location                = var.region
  kms_key_name            = google_kms_crypto_key.artifacts.id
  noncurrent_version_days = 30
  labels                  = local.labels
  depends_on              = [google_kms_crypto_key_iam_member.gcs]
}

output "url" {
  description = "gs:// URL of the artifact bucket."
  value       = module.artifacts.url
}
