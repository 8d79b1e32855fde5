# A private, versioned bucket for model artifacts.
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

module "artifacts" {
  source     = "../.."
  project_id = var.project_id
  name       = "${var.project_id}-ml-artifacts"
  location   = var.region
  labels     = { cost-center = "ml-platform", owner = "platform-team" }
}

output "url" {
  description = "gs:// URL of the artifact bucket."
  value       = module.artifacts.url
}
