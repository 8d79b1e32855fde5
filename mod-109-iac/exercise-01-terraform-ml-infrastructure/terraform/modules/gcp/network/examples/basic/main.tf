# A private network for ML workloads.
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

module "network" {
  source     = "../.."
  project_id = var.project_id
  name       = "ml-platform"
  region     = var.region
  labels     = { cost-center = "ml-platform", owner = "platform-team" }
}

output "subnet_id" {
  description = "Private subnet for workloads."
  value       = module.network.subnet_id
}
