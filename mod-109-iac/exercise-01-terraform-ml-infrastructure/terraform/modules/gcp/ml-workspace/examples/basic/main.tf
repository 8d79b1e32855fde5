# A Vertex AI workspace on a private network from this library.
terraform {
  required_version = ">= 1.7, < 2.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 7.0"
    }
  }
}

variable "project_id" {
  type        = string
  description = "GCP project to deploy into."
}

variable "region" {
  type        = string
  description = "GCP region of the workspace."
  default     = "europe-west4"
}

provider "google" {
  project = var.project_id
  region  = var.region
}

locals {
  labels = { cost-center = "ml-platform", owner = "platform-team" }
}

module "network" {
  source     = "../../../network"
  project_id = var.project_id
  name       = "ml-workspace"
  region     = var.region
  labels     = local.labels
}

module "workspace" {
  source     = "../.."
  project_id = var.project_id
  name       = "research"
  region     = var.region
  zone       = "${var.region}-a"
  network    = module.network.network_id
  subnet     = module.network.subnet_id
  labels     = local.labels
}

output "notebook_proxy_uri" {
  description = "JupyterLab URI of the notebook."
  value       = module.workspace.notebook_proxy_uri
}
